/**
 * model → provider. A model several providers serve goes to the first
 * listed; "provider/model" forces a provider and sends the bare name. A name
 * that is itself listed with a slash (e.g. NVIDIA's "meta/llama-3.1-8b")
 * matches as listed first.
 */
import { errors } from "../errors.ts";

export interface Route<P> {
  readonly provider: P;
  /** The model name the upstream gets. */
  readonly upstreamModel: string;
  /** Whether the client's body must be rewritten to carry upstreamModel. */
  readonly rewritten: boolean;
}

export interface RoutableProvider {
  readonly name: string;
  readonly models: readonly string[];
}

export class Router<P extends RoutableProvider> {
  private readonly byModel = new Map<string, P>();
  private readonly byName = new Map<string, P>();

  constructor(providers: readonly P[]) {
    for (const p of providers) {
      this.byName.set(p.name, p);
      for (const m of p.models) if (!this.byModel.has(m)) this.byModel.set(m, p);
    }
  }

  resolve(model: string): Route<P> {
    const direct = this.byModel.get(model);
    if (direct) return { provider: direct, upstreamModel: model, rewritten: false };
    const slash = model.indexOf("/");
    if (slash > 0) {
      const forced = this.byName.get(model.slice(0, slash));
      const bare = model.slice(slash + 1);
      if (forced && bare.length > 0 && forced.models.includes(bare)) {
        return { provider: forced, upstreamModel: bare, rewritten: true };
      }
    }
    throw errors.modelNotFound(model);
  }

  /** The merged model list: every model, and every model as provider/model. */
  list(): { id: string; owned_by: string }[] {
    const out: { id: string; owned_by: string }[] = [];
    for (const [model, p] of this.byModel) out.push({ id: model, owned_by: p.name });
    for (const p of this.byName.values()) for (const m of p.models) out.push({ id: `${p.name}/${m}`, owned_by: p.name });
    return out;
  }
}
