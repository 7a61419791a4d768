/** A zod refusal of a request body as a 422 problem naming each field. */
import type { $ZodError } from "zod/v4/core";
import { HttpProblem } from "./problem";

export function validationProblem(title: string, error: $ZodError): HttpProblem {
  const errors = error.issues.map((issue) => ({ field: issue.path.join(".") || "body", message: issue.message }));
  return new HttpProblem(422, "validation", title, errors.map((e) => `${e.field}: ${e.message}`).join("; "), {}, { errors });
}
