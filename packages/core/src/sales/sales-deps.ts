/** What the hand-off and the rep workflow take as arguments: ports, config and a few settings. */
import type { LeadloopConfig, Team } from "../config/schema";
import type { Clock, EventPublisher, LeadStore, Mailer } from "../ports";
import type { SalesStore } from "./sales-store";

export interface ChatMessage {
  /** Plain text with Slack's mrkdwn links (`<url|label>`). */
  text: string;
}

/** A team's chat channel (a Slack incoming webhook); the adapter knows where each team's goes. */
export interface TeamChat {
  /** Posts to the team's channel; resolves false when the team has none configured. Throws when posting failed. */
  post(team: Team, message: ChatMessage): Promise<boolean>;
}

export interface SalesSettings {
  /** Base URL of the API, which also serves the reps' /sales page. */
  publicUrl: string;
  /** The verified sender of notification emails. */
  from: string;
}

export interface SalesLog {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

export interface SalesDeps {
  config: LeadloopConfig;
  leads: LeadStore;
  sales: SalesStore;
  mailer: Mailer;
  publisher: EventPublisher;
  clock: Clock;
  settings: SalesSettings;
  chat?: TeamChat;
  log?: SalesLog;
}

/** The page a notification links to: the /sales view opened at the lead. */
export function leadUrl(settings: SalesSettings, leadId: string): string {
  return `${settings.publicUrl.replace(/\/+$/, "")}/sales?lead=${encodeURIComponent(leadId)}`;
}

export function findTeam(deps: Pick<SalesDeps, "config">, teamId: string): Team | undefined {
  return deps.config.teams.teams.find((t) => t.id === teamId);
}
