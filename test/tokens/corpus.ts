/**
 * Deterministic text for tokenizer tests and bench/tokenizer.ts. `english`
 * reads like prose to a tokenizer: Zipf-distributed common words, invented
 * rarer words (so pieces vary as in real text and merge caches do not hide
 * the cost), capitals, contractions, numbers, punctuation, paragraphs.
 * `mixed` adds what breaks tokenizers: code, JSON, CJK, emoji, accents,
 * whitespace runs, CRLF, special-token strings.
 */

/** mulberry32: small, fast, deterministic. */
import { mulberry32 as random } from "../core/prng.ts";

export { random };

/** Real English words, roughly by frequency. */
const COMMON = (
  "the of and to a in is it you that he was for on are with as his they be at one have this from " +
  "or had by not word but what some we can out other were all there when up use your how said an " +
  "each she which do their time if will way about many then them write would like so these her long " +
  "make thing see him two has look more day could go come did number sound no most people my over " +
  "know water than call first who may down side been now find any new work part take get place made " +
  "live where after back little only round man year came show every good me give our under name very " +
  "through just form sentence great think say help low line differ turn cause much mean before move " +
  "right boy old too same tell does set three want air well also play small end put home read hand " +
  "port large spell add even land here must big high such follow act why ask men change went light " +
  "kind off need house picture try us again animal point mother world near build self earth father " +
  "head stand own page should country found answer school grow study still learn plant cover food sun " +
  "four between state keep eye never last let thought city tree cross farm hard start might story saw " +
  "far sea draw left late run while press close night real life few north open seem together next " +
  "white children begin got walk example ease paper group always music those both mark often letter " +
  "until mile river car feet care second book carry took science eat room friend began idea fish " +
  "mountain stop once base hear horse cut sure watch color face wood main enough plain girl usual " +
  "young ready above ever red list though feel talk bird soon body dog family direct pose leave song " +
  "measure door product black short numeral class wind question happen complete ship area half rock " +
  "order fire south problem piece told knew pass since top whole king space heard best hour better " +
  "true during hundred five remember step early hold west ground interest reach fast verb sing listen " +
  "six table travel less morning ten simple several vowel toward war lay against pattern slow center " +
  "love person money serve appear road map rain rule govern pull cold notice voice unit power town " +
  "fine certain fly fall lead cry dark machine note wait plan figure star box noun field rest correct " +
  "able pound done beauty drive stood contain front teach week final gave green quick develop ocean " +
  "warm free minute strong special mind behind clear tail produce fact street inch multiply nothing " +
  "course stay wheel full force blue object decide surface deep moon island foot system busy test " +
  "record boat common gold possible plane stead dry wonder laugh thousand ago ran check game shape " +
  "equate miss brought heat snow tire bring yes distant fill east paint language among grand ball " +
  "yet wave drop heart present heavy dance engine position arm wide sail material size vary settle " +
  "speak weight general ice matter circle pair include divide syllable felt perhaps pick sudden count " +
  "square reason length represent art subject region energy hunt probable bed brother egg ride cell " +
  "believe fraction forest sit race window store summer train sleep prove lone exercise wall catch " +
  "mount wish sky board joy winter sat written wild instrument kept glass grass cow job edge sign " +
  "visit past soft fun bright gas weather month million bear finish happy hope flower clothe strange " +
  "gone jump baby eight village meet root buy raise solve metal whether push seven paragraph third " +
  "shall held hair describe cook floor either result burn hill safe cat century consider type law bit " +
  "coast copy phrase silent tall sand soil roll temperature finger industry value fight lie beat " +
  "excite natural view sense ear else quite broke case middle kill son lake moment scale loud spring " +
  "observe child straight consonant nation dictionary milk speed method organ pay age section dress " +
  "cloud surprise quiet stone tiny climb cool design poor lot experiment bottom key iron single stick " +
  "flat twenty skin smile crease hole trade melody trip office receive row mouth exact symbol die " +
  "least trouble shout except wrote seed tone join suggest clean break lady yard rise bad blow oil " +
  "blood touch grew cent mix team wire cost lost brown wear garden equal sent choose fell fit flow " +
  "fair bank collect save control decimal gentle woman captain practice separate difficult doctor " +
  "please protect noon whose locate ring character insect caught period indicate radio spoke atom " +
  "human history effect electric expect crop modern element hit student corner party supply bone " +
  "rail imagine provide agree thus capital chair danger fruit rich thick soldier process operate guess " +
  "necessary sharp wing create neighbor wash bat rather crowd corn compare poem string bell depend " +
  "meat rub tube famous dollar stream fear sight thin triangle planet hurry chief colony clock mine " +
  "tie enter major fresh search send yellow gun allow print dead spot desert suit current lift rose " +
  "continue block chart hat sell success company subtract event particular deal swim term opposite " +
  "wife shoe shoulder spread arrange camp invent cotton born determine quart nine truck noise level " +
  "chance gather shop stretch throw shine property column molecule select wrong gray repeat require " +
  "broad prepare salt nose plural anger claim continent oxygen sugar death pretty skill women season " +
  "solution magnet silver thank branch match suffix especially fig afraid huge sister steel discuss " +
  "forward similar guide experience score apple bought led pitch coat mass card band rope slip win " +
  "dream evening condition feed tool total basic smell valley nor double seat arrive master track " +
  "parent shore division sheet substance favor connect post spend chord fat glad original share " +
  "station dad bread charge proper bar offer segment slave duck instant market degree populate chick " +
  "dear enemy reply drink occur support speech nature range steam motion path liquid log meant " +
  "quotient teeth shell neck"
).split(" ");

const CONTRACTIONS = ["don't", "it's", "we're", "they've", "I'm", "you'll", "she'd", "can't", "won't", "isn't"];
const ONSETS = ["b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "st", "tr", "pl", "gr", "ch", "sh", "th"];
const VOWELS = ["a", "e", "i", "o", "u", "ea", "ou", "ai", "io"];
const CODAS = ["", "", "n", "r", "s", "t", "l", "nd", "st", "ng", "ck", "rk"];
const SUFFIXES = ["", "", "", "s", "ed", "ing", "ly", "tion", "ment", "er", "ness", "able"];

function pick<T>(rnd: () => number, items: readonly T[]): T {
  return items[Math.floor(rnd() * items.length)]!;
}

function inventedWord(rnd: () => number): string {
  const syllables = 1 + Math.floor(rnd() * 2);
  let w = "";
  for (let i = 0; i < syllables; i++) w += pick(rnd, ONSETS) + pick(rnd, VOWELS) + pick(rnd, CODAS);
  return w + pick(rnd, SUFFIXES);
}

/**
 * Ranks are drawn log-uniformly (Zipf's law): as in real prose a few words
 * make most of the text and rare ones still appear.
 */
const LOG_COMMON = Math.log(COMMON.length + 1);
const INVENTED: readonly string[] = (() => {
  const rnd = random(0xc0ffee);
  const words = new Set<string>();
  while (words.size < 20_000) words.add(inventedWord(rnd));
  return [...words];
})();
const LOG_INVENTED = Math.log(INVENTED.length + 1);

function word(rnd: () => number): string {
  const r = rnd();
  if (r < 0.03) return pick(rnd, CONTRACTIONS);
  if (r < 0.05) return String(Math.floor(rnd() * (rnd() < 0.5 ? 100 : 100000)));
  // names, jargon, typos: words the encoder must merge from pieces
  if (r < 0.1) return INVENTED[Math.floor(Math.exp(rnd() * LOG_INVENTED)) - 1] ?? "zorb";
  return COMMON[Math.floor(Math.exp(rnd() * LOG_COMMON)) - 1] ?? "the";
}

/** About `chars` characters (exactly, cut at the end) of English-like prose. */
export function english(chars: number, seed = 1): string {
  const rnd = random(seed);
  const parts: string[] = [];
  let length = 0;
  while (length < chars) {
    const words = 6 + Math.floor(rnd() * 18);
    let sentence = "";
    for (let i = 0; i < words; i++) {
      let w = word(rnd);
      if (i === 0 || rnd() < 0.04) w = w.charAt(0).toUpperCase() + w.slice(1);
      sentence += (i === 0 ? "" : " ") + w;
      if (i < words - 1 && rnd() < 0.08) sentence += pick(rnd, [",", ",", ";", " -", ":"]);
    }
    sentence += pick(rnd, [".", ".", ".", ".", "?", "!"]);
    if (rnd() < 0.05) sentence = `"${sentence}"`;
    sentence += rnd() < 0.15 ? "\n\n" : " ";
    parts.push(sentence);
    length += sentence.length;
  }
  return parts.join("").slice(0, chars);
}

const ODD = [
  "function add(a, b) {\n  return a + b; // sum\n}\n",
  '{"id": 12345, "name": "Zoë", "tags": ["a", "b"], "ok": true, "ratio": 0.125}\n',
  "これは日本語の文章です。東京は晴れています。",
  "我们今天去公园散步，天气很好。",
  "Привет, как дела? Всё хорошо.",
  "emoji 😀🎉👍🏽 and flags 🇫🇷🇯🇵 ",
  "naïve café façade résumé — “quoted” ‘text’ … ",
  "tabs\tand\tspaces    and   runs\r\nCRLF lines\r\n",
  "special tokens as text: <|endoftext|> <|im_start|>user<|im_end|> <|fim_prefix|> ",
  "ALLCAPS WORDS HERE, CamelCaseIdentifiersLikeThisOne and snake_case_names_too ",
  "numbers 3.14159 1,000,000 2024-06-01T12:34:56Z 0xDEADBEEF 1e-9 ",
  "url https://example.com/path/to/page?query=1&x=y#frag and path /usr/local/bin/ ",
  "base64 SGVsbG8sIFdvcmxkIQ==dGhpcyBpcyBiYXNlNjQgdGV4dA== ",
  "    indented line\n\n\n\n   \n",
  "Dashes ------ equals ====== stars ****** ",
  "'S 'T 'RE 'VE 'M 'LL 'D it'S YOU'RE",
];

/** English interleaved with hard cases. */
export function mixed(chars: number, seed = 2): string {
  const rnd = random(seed);
  const parts: string[] = [];
  let length = 0;
  let i = 0;
  while (length < chars) {
    const piece = rnd() < 0.5 ? pick(rnd, ODD) : english(80 + Math.floor(rnd() * 400), seed * 1000 + i++);
    parts.push(piece);
    length += piece.length;
  }
  const text = parts.join("").slice(0, chars);
  // never end on half a surrogate pair
  const last = text.charCodeAt(text.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? text.slice(0, -1) : text;
}
