/**
 * Prometheus text exposition (format 0.0.4) rendered from a StatsSnapshot —
 * the same data as /admin/stats, so the two never disagree.
 */
import type { HistogramSnapshot } from "./histogram.ts";
import type { StatsSnapshot } from "./snapshot.ts";

type Labels = Record<string, string>;

/** Groups samples by family: the format wants each family's lines together, after its HELP and TYPE. */
class Writer {
  private readonly families = new Map<string, string[]>();

  metric(name: string, type: "counter" | "gauge" | "histogram", help: string): void {
    if (!this.families.has(name)) this.families.set(name, [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`]);
  }

  sample(name: string, labels: Labels, value: number, family = name): void {
    this.families.get(family)!.push(`${name}${fmtLabels(labels)} ${fmtValue(value)}`);
  }

  /** A family with a single sample. */
  one(name: string, type: "counter" | "gauge", help: string, labels: Labels, value: number): void {
    this.metric(name, type, help);
    this.sample(name, labels, value);
  }

  histogram(name: string, help: string, labels: Labels, h: HistogramSnapshot): void {
    this.metric(name, "histogram", help);
    h.le.forEach((le, i) => this.sample(`${name}_bucket`, { ...labels, le: String(le) }, h.counts[i]!, name));
    this.sample(`${name}_bucket`, { ...labels, le: "+Inf" }, h.count, name);
    this.sample(`${name}_sum`, labels, h.sum, name);
    this.sample(`${name}_count`, labels, h.count, name);
  }

  text(): string {
    return [...this.families.values()].map((lines) => lines.join("\n")).join("\n") + "\n";
  }
}

function fmtLabels(l: Labels): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function fmtValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export function renderPrometheus(s: StatsSnapshot): string {
  const w = new Writer();
  w.one("limitrate_uptime_seconds", "gauge", "Seconds since this node started.", {}, s.uptime_seconds);
  w.one("limitrate_store_up", "gauge", "1 when the limit store is healthy (0 while degraded or down).", { kind: s.store.kind, state: s.store.state }, s.store.state === "ok" ? 1 : 0);

  for (const p of s.providers) {
    const l = { provider: p.provider };
    w.metric("limitrate_provider_requests_total", "counter", "Routed requests by provider and final status.");
    for (const [status, n] of Object.entries(p.by_status)) w.sample("limitrate_provider_requests_total", { ...l, status }, n);
    w.one("limitrate_queue_depth", "gauge", "Requests waiting to be sent to the provider.", l, p.waiting_in_acquire);
    w.one("limitrate_in_flight", "gauge", "Requests in flight to the provider.", l, p.in_flight);
    w.one("limitrate_sent_total", "counter", "Requests released to the provider.", l, p.sent);
    w.one("limitrate_upstream_429_total", "counter", "429 answers received from the provider.", l, p.upstream_429);
    w.one("limitrate_upstream_retries_total", "counter", "Upstream retries after 429/5xx or a dropped connection.", l, p.retries);
    w.one("limitrate_queue_timeouts_total", "counter", "Requests answered 503 because their wait would exceed max_wait_seconds.", l, p.queue_timeouts);
    w.metric("limitrate_provider_tokens_total", "counter", "Tokens used at the provider (settled), by direction.");
    w.sample("limitrate_provider_tokens_total", { ...l, direction: "in" }, p.tokens_in);
    w.sample("limitrate_provider_tokens_total", { ...l, direction: "out" }, p.tokens_out);
    w.histogram("limitrate_queue_wait_ms", "Time waited in line before being sent, ms.", l, p.queue_wait_ms);
    for (const m of p.model_lines) {
      const ml = { provider: p.provider, model: m.model };
      w.one("limitrate_model_queue_depth", "gauge", "Requests waiting in the line of a model with limits of its own.", ml, m.waiting_in_acquire);
      w.one("limitrate_model_in_flight", "gauge", "Requests in flight for a model with limits of its own.", ml, m.in_flight);
      w.one("limitrate_model_sent_total", "counter", "Requests released from a model's line.", ml, m.sent);
      w.one("limitrate_model_queue_timeouts_total", "counter", "Requests answered 503 by a model's line (max_wait_seconds).", ml, m.queue_timeouts);
    }
    if (p.learned_rpm !== null) {
      w.one("limitrate_learned_rpm", "gauge", "mode adaptive: the provider rate learned so far, requests per minute.", l, p.learned_rpm);
    }
    w.histogram("limitrate_upstream_latency_ms", "Upstream time to response headers, ms.", l, p.upstream_latency_ms);
  }
  for (const k of s.keys) {
    const l = { key: k.key };
    w.metric("limitrate_key_requests_total", "counter", "Requests by client key (name or short hash) and final status.");
    for (const [status, n] of Object.entries(k.by_status)) w.sample("limitrate_key_requests_total", { ...l, status }, n);
    w.metric("limitrate_key_rejected_total", "counter", "Requests refused by the key's own limits, by dimension.");
    for (const [dim, n] of Object.entries(k.rejected_by)) w.sample("limitrate_key_rejected_total", { ...l, dimension: dim }, n);
    w.metric("limitrate_key_tokens_total", "counter", "Tokens used by the key (settled), by direction.");
    w.sample("limitrate_key_tokens_total", { ...l, direction: "in" }, k.tokens_in);
    w.sample("limitrate_key_tokens_total", { ...l, direction: "out" }, k.tokens_out);
    w.one("limitrate_key_spend_usd_total", "counter", "USD spent by the key (settled, priced per model).", l, k.spend_usd);
    w.histogram("limitrate_key_queue_wait_ms", "Time the key's requests waited in provider lines, ms.", l, k.queue_wait_ms);
    w.metric("limitrate_key_window_used", "gauge", "Usage counted in the key's current window, by limit.");
    w.metric("limitrate_key_window_limit", "gauge", "The key's limit, by limit name.");
    for (const [name, win] of Object.entries(k.windows)) {
      w.sample("limitrate_key_window_used", { ...l, limit: name }, win.used);
      w.sample("limitrate_key_window_limit", { ...l, limit: name }, win.limit);
    }
  }
  for (const g of s.groups) {
    const l = { group: g.group };
    w.one("limitrate_group_requests_total", "counter", "Requests of the group's keys.", l, g.requests);
    w.one("limitrate_group_rejected_total", "counter", "Requests refused by the group's limits.", l, g.rejected);
    w.one("limitrate_group_spend_usd_total", "counter", "USD spent by the group's keys (settled).", l, g.spend_usd);
  }
  return w.text();
}
