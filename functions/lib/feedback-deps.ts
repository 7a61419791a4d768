/** What the feedback handler and the recycler share: the runtime's ports plus the feedback store. */
import type { FeedbackDeps } from "@leadloop/core/feedback/apply-outcome";
import { DynamoFeedbackStore } from "@leadloop/store/dynamo-feedback-store";
import type { Runtime } from "./runtime";

export function feedbackDeps(runtime: Runtime): FeedbackDeps {
  const feedback = new DynamoFeedbackStore({ client: runtime.client, tableName: runtime.env.TABLE_NAME });
  const { config, leads, publisher, clock } = runtime.deps;
  return { config, leads, feedback, publisher, clock, log: runtime.log };
}
