import { describe, expect, it } from "vitest";
import { emailDomainOf, isFreeMail } from "./free-mail";

describe("isFreeMail", () => {
  it.each([
    "ann@gmail.com",
    "Ann@GMail.COM",
    "bob@yahoo.co.uk",
    "bob@yahoo.fr",
    "c@hotmail.de",
    "d@outlook.com",
    "e@proton.me",
    "f@web.de",
    "g@gmx.net",
    "h@yandex.ru",
    "i@qq.com",
    "j@163.com",
    "k@icloud.com",
  ])("knows %s is free mail", (email) => {
    expect(isFreeMail(email)).toBe(true);
  });

  it.each(["ann@acme.com", "bob@live.acme.com", "c@yahooo.com", "d@mygmail.com", "e@gmail.company.io"])(
    "treats %s as a company address",
    (email) => {
      expect(isFreeMail(email)).toBe(false);
    },
  );

  it("adds the marketer's extra domains, wildcards included", () => {
    expect(isFreeMail("a@example-mail.org")).toBe(false);
    expect(isFreeMail("a@example-mail.org", ["example-mail.org"])).toBe(true);
    expect(isFreeMail("a@seznam.sk", ["seznam.*"])).toBe(true);
  });

  it("says no for text that is not an address", () => {
    expect(isFreeMail("gmail.com")).toBe(false);
    expect(isFreeMail("ann@localhost")).toBe(false);
  });
});

describe("emailDomainOf", () => {
  it("takes the part after the last @, lower-cased", () => {
    expect(emailDomainOf(' "a@b"@Example.COM ')).toBe("example.com");
    expect(emailDomainOf("@example.com")).toBeUndefined();
  });
});
