/**
 * Links and headers that let a recipient leave: every marketing email carries a signed
 * unsubscribe link and the RFC 8058 one-click headers, so mail clients can show "Unsubscribe".
 */
import { expiresIn, type TokenSigner } from "../tokens";
import type { NurtureSettings } from "./nurture-settings";

/** Long enough that an old email's link still works; RFC 8058 asks that it keep working. */
const UNSUBSCRIBE_TOKEN_DAYS = 400;

export function unsubscribeUrl(settings: NurtureSettings, signer: TokenSigner, leadId: string, now: Date): string {
  const token = signer.sign({ sub: leadId, purpose: "unsubscribe", exp: expiresIn(now, UNSUBSCRIBE_TOKEN_DAYS) });
  return `${settings.publicUrl}/v1/unsubscribe?token=${encodeURIComponent(token)}`;
}

export function confirmUrl(settings: NurtureSettings, signer: TokenSigner, leadId: string, now: Date): string {
  const token = signer.sign({ sub: leadId, purpose: "confirm", exp: expiresIn(now, settings.confirmationDays) });
  return `${settings.publicUrl}/v1/confirm?token=${encodeURIComponent(token)}`;
}

export function unsubscribeHeaders(settings: NurtureSettings, url: string): Record<string, string> {
  const targets = [`<${url}>`];
  if (settings.unsubscribeMailto) {
    targets.push(`<mailto:${settings.unsubscribeMailto}?subject=${encodeURIComponent(`unsubscribe ${new URL(url).searchParams.get("token")}`)}>`);
  }
  return {
    "List-Unsubscribe": targets.join(", "),
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
  };
}
