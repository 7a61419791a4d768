/**
 * Free-mail providers, so segments and scoring can tell a private address from a company one.
 * An entry ending in `.*` matches the provider under any top-level domain (yahoo.co.uk, yahoo.fr).
 * Marketers add their own entries in segments.yaml (`freeMailDomains`) with the same syntax.
 */
export const BUILT_IN_FREE_MAIL_DOMAINS: readonly string[] = [
  "gmail.com",
  "googlemail.com",
  "yahoo.*",
  "ymail.com",
  "rocketmail.com",
  "outlook.*",
  "hotmail.*",
  "live.*",
  "msn.com",
  "passport.com",
  "aol.*",
  "aim.com",
  "icloud.com",
  "me.com",
  "mac.com",
  "proton.me",
  "protonmail.*",
  "pm.me",
  "tutanota.com",
  "tutanota.de",
  "tuta.io",
  "gmx.*",
  "web.de",
  "t-online.de",
  "freenet.de",
  "posteo.de",
  "mailbox.org",
  "mail.ru",
  "inbox.ru",
  "list.ru",
  "bk.ru",
  "yandex.*",
  "ya.ru",
  "rambler.ru",
  "qq.com",
  "foxmail.com",
  "163.com",
  "126.com",
  "yeah.net",
  "sina.com",
  "sohu.com",
  "aliyun.com",
  "naver.com",
  "daum.net",
  "hanmail.net",
  "zoho.com",
  "zohomail.com",
  "mail.com",
  "email.com",
  "usa.com",
  "fastmail.*",
  "hushmail.com",
  "laposte.net",
  "orange.fr",
  "wanadoo.fr",
  "free.fr",
  "sfr.fr",
  "libero.it",
  "virgilio.it",
  "tiscali.*",
  "btinternet.com",
  "sky.com",
  "virginmedia.com",
  "comcast.net",
  "verizon.net",
  "att.net",
  "sbcglobal.net",
  "bellsouth.net",
  "cox.net",
  "earthlink.net",
  "rediffmail.com",
  "seznam.cz",
  "wp.pl",
  "o2.pl",
  "interia.pl",
  "onet.pl",
  "bol.com.br",
  "uol.com.br",
  "terra.com.br",
];

/** The lower-cased domain of an address, or undefined when it has none. */
export function emailDomainOf(email: string): string | undefined {
  const at = email.lastIndexOf("@");
  if (at < 1) return undefined;
  const domain = email
    .slice(at + 1)
    .trim()
    .toLowerCase()
    .replace(/\.$/, "");
  return domain.includes(".") ? domain : undefined;
}

/** A top-level domain, optionally under a generic second level: com, fr, co.uk, com.br. */
const PUBLIC_SUFFIX = /^(?:(?:co|com|net|org|ne|or|gen)\.)?[a-z]{2,}$/;

function matchesEntry(domain: string, entry: string): boolean {
  const pattern = entry.trim().toLowerCase();
  if (pattern.endsWith(".*")) {
    const provider = pattern.slice(0, -1); // keep the dot: "yahoo." must not match "yahooo.com"
    // Only a public suffix may follow, so live.acme.com stays a company domain.
    return domain.startsWith(provider) && PUBLIC_SUFFIX.test(domain.slice(provider.length));
  }
  return domain === pattern;
}

/** True when the address belongs to a free-mail provider, built in or listed in `extra`. */
export function isFreeMail(email: string, extra: readonly string[] = []): boolean {
  const domain = emailDomainOf(email);
  if (domain === undefined) return false;
  return [...BUILT_IN_FREE_MAIL_DOMAINS, ...extra].some((entry) => matchesEntry(domain, entry));
}
