/** GET /v1/models: OpenAI's list shape, built once per mock (it never changes). */

export interface ModelEntry {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

export interface ModelList {
  object: "list";
  data: ModelEntry[];
}

export function buildModelList(ids: readonly string[], created: number): ModelList {
  return {
    object: "list",
    data: ids.map((id) => ({ id, object: "model", created, owned_by: "limitrate-mock" })),
  };
}
