import { describe, expect, it } from "vitest";
import { replayOf } from "./redrive-cli";

const event = { id: "e1", source: "leadloop", "detail-type": "lead.captured", time: "2026-12-01T10:00:00Z", detail: { leadId: "l1" } };

describe("redrive of a deployed stage's dead letters", () => {
  it("replays Lambda's failure record with its original input, to the function that failed", () => {
    const body = {
      version: "1.0",
      requestContext: { requestId: "r", functionArn: "arn:aws:lambda:eu-west-1:1:function:prod-leadloop-Enroll:$LATEST", condition: "RetriesExhausted", approximateInvokeCount: 3 },
      requestPayload: { rule: "enroll-smb-nurture", event },
      responsePayload: { errorMessage: "boom" },
    };
    expect(replayOf({ Body: JSON.stringify(body) }, "prod")).toEqual({
      functionName: "arn:aws:lambda:eu-west-1:1:function:prod-leadloop-Enroll",
      payload: { rule: "enroll-smb-nurture", event },
    });
  });

  it("rebuilds the {rule, event} input of an event EventBridge could not deliver, from its attributes", () => {
    const message = {
      Body: JSON.stringify(event),
      MessageAttributes: {
        RULE_ARN: { DataType: "String", StringValue: "arn:aws:events:eu-west-1:1:rule/prod-leadloop-bus/prod-leadloop-enroll-smb-nurture" },
        TARGET_ARN: { DataType: "String", StringValue: "arn:aws:lambda:eu-west-1:1:function:prod-leadloop-Enroll" },
      },
    };
    expect(replayOf(message, "prod")).toEqual({ functionName: "arn:aws:lambda:eu-west-1:1:function:prod-leadloop-Enroll", payload: { rule: "enroll-smb-nurture", event } });
  });

  it("leaves a message it cannot place in the queue", () => {
    expect(replayOf({ Body: JSON.stringify({ hello: 1 }) }, "prod")).toBeUndefined();
  });
});
