/**
 * EventPublisher on Amazon EventBridge. PutEvents takes at most 10 entries a call and may accept
 * some entries and refuse others; only a call where every entry was accepted counts as published.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import { type BusEvent, type EventPublisher, PublishError } from "@leadloop/core";

const MAX_ENTRIES_PER_CALL = 10;

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: BusEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += MAX_ENTRIES_PER_CALL) {
      const entries: PutEventsRequestEntry[] = events.slice(i, i + MAX_ENTRIES_PER_CALL).map((e) => ({
        EventBusName: this.busName,
        Source: e.source ?? "leadloop",
        DetailType: e.type,
        Detail: JSON.stringify(e.detail),
        ...(e.time ? { Time: new Date(e.time) } : {}),
      }));
      let failed: number;
      try {
        const out = await this.client.send(new PutEventsCommand({ Entries: entries }));
        failed = out.FailedEntryCount ?? 0;
      } catch (error) {
        throw new PublishError(`EventBridge PutEvents failed: ${(error as Error).name}`, { cause: error });
      }
      if (failed > 0) throw new PublishError(`EventBridge refused ${failed} of ${entries.length} events`);
    }
  }
}

export function createEventBridgeClient(): EventBridgeClient {
  return new EventBridgeClient({});
}
