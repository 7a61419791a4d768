/**
 * The teams' Slack webhooks in AWS. A team names a variable (`slackWebhookEnv` in teams.yaml); in
 * AWS each distinct name is an SST secret of that name, bound only to the functions that notify
 * reps, and read from SST Config once per container. The stacks and the functions take the names
 * from the same config snapshot through `slackWebhookNames`, so a team added to teams.yaml gets
 * its secret with the next deploy.
 *
 * A bound SST secret that was never set stops the function's cold start, so an operator who wants
 * no Slack for a team sets its secret to `none`.
 */

/** The value that says "this team has no Slack channel on this stage". */
export const NO_WEBHOOK = "none";

/** A team's variable would shadow one of leadloop's own secrets. */
export class SlackWebhookNameError extends Error {
  override readonly name = "SlackWebhookNameError";
}

/** A Slack secret's value is neither an https URL nor `none`. */
export class SlackWebhookSecretError extends Error {
  override readonly name = "SlackWebhookSecretError";
}

interface TeamWithWebhook {
  id: string;
  slackWebhookEnv?: string | undefined;
}

/** Each distinct webhook variable the teams name, sorted; none may reuse a name in `reserved`. */
export function slackWebhookNames(teams: readonly TeamWithWebhook[], reserved: readonly string[] = []): string[] {
  const names = new Set<string>();
  for (const team of teams) {
    const name = team.slackWebhookEnv;
    if (!name) continue;
    if (reserved.includes(name)) {
      throw new SlackWebhookNameError(
        `Team ${team.id} in config/teams.yaml names slackWebhookEnv ${name}, which is leadloop's own secret; choose another name such as SLACK_WEBHOOK_${team.id.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}.`,
      );
    }
    names.add(name);
  }
  return [...names].sort();
}

/**
 * The webhook URL of each name whose secret holds one (`none` leaves the team without a channel).
 * Anything else stops the container at start-up, naming the secret, rather than failing the
 * first hand-off.
 */
export function resolveSlackWebhooks(names: readonly string[], lookup: (name: string) => string | undefined): Record<string, string> {
  const urls: Record<string, string> = {};
  const problems: string[] = [];
  for (const name of names) {
    const value = lookup(name)?.trim();
    if (value === undefined || value === "") {
      problems.push(`${name} is not bound to this function or has no value`);
    } else if (value !== NO_WEBHOOK) {
      if (URL.canParse(value) && new URL(value).protocol === "https:") urls[name] = value;
      else problems.push(`${name} is not an https URL (set it to the team's Slack incoming webhook URL, or to "${NO_WEBHOOK}")`);
    }
  }
  if (problems.length > 0) {
    throw new SlackWebhookSecretError(
      `Slack webhook secrets are not usable:\n${problems.map((p) => `  - ${p}; npx sst secrets set <NAME> <url|${NO_WEBHOOK}> --stage <stage>`).join("\n")}`,
    );
  }
  return urls;
}
