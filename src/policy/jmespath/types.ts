import type { compile, JSONValue, JSONObject, JSONArray, InputSignature } from '@jmespath-community/jmespath';

export type JsonValue = JSONValue;
export type JsonObject = JSONObject;
export type JsonArray = JSONArray;
/** A compiled JMESPath expression (the library's AST). */
export type Ast = ReturnType<typeof compile>;
export type { InputSignature };

/** One function to register in the JMESPath runtime. */
export interface FunctionDef {
  name: string;
  signature: InputSignature[];
  fn: (args: JsonValue[]) => JsonValue;
}

/** Evaluation environment shared by the functions (injectable clock, for tests). */
export interface FunctionEnv {
  now(): Date;
}

export function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
