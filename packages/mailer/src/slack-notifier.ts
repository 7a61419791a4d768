/**
 * The TeamChat port on Slack incoming webhooks. A team names the environment variable that holds
 * its webhook URL (`slackWebhookEnv`), never the URL itself: the URL is a secret. A team without
 * one, or whose variable is unset here, has no channel (post resolves false); a refused or failed
 * post throws, so the hand-off retries it later.
 */
import type { ChatMessage, Team, TeamChat } from "@leadloop/core";

export class SlackPostError extends Error {
  override readonly name = "SlackPostError";
}

export interface SlackNotifierOptions {
  /** Where the webhook variables are read, e.g. process.env. */
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export class SlackWebhookNotifier implements TeamChat {
  readonly #env: Record<string, string | undefined>;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(options: SlackNotifierOptions) {
    this.#env = options.env;
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
  }

  async post(team: Team, message: ChatMessage): Promise<boolean> {
    const url = team.slackWebhookEnv ? this.#env[team.slackWebhookEnv] : undefined;
    if (!url) return false;
    let res: Response;
    try {
      res = await this.#fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: message.text }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new SlackPostError(`Slack webhook for team ${team.id} could not be reached (${String(error)})`, { cause: error });
    }
    if (!res.ok) {
      const body = (await res.text().catch(() => "")).slice(0, 200);
      throw new SlackPostError(`Slack webhook for team ${team.id} answered ${res.status}${body ? `: ${body}` : ""}`);
    }
    return true;
  }
}
