import { describe, expect, it } from "vitest";
import type { Template } from "./config/schema";
import { escapeChatText, renderTemplate, templateFields, templateFieldUses } from "./templating";

const template: Template = {
  name: "welcome",
  html: '<p>Hi {{ lead.firstName | default: "there" }} from {{ lead.company }}</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>',
  text: 'Hi {{ lead.firstName | default: "there" }} from {{ lead.company }}\nUnsubscribe: {{ unsubscribe_url }}',
};

describe("renderTemplate", () => {
  it("renders a lead's Liquid-looking values as text, never as Liquid", () => {
    const out = renderTemplate(template, "Hi", { lead: { firstName: "{{ 6 | times: 7 }}", company: "{% if x %}" } });
    expect(out.text).toContain("Hi {{ 6 | times: 7 }} from {% if x %}");
  });

  it("stops a template that would build gigabytes or loop for minutes", () => {
    const runaway = { ...template, text: "{% for i in (1..100000000) %}{{ lead.company }}{% endfor %}" };
    expect(() => renderTemplate(runaway, "s", { lead: { company: "x".repeat(1000) } })).toThrow(/limit/i);
  });

  it("escapes HTML in merge fields in the HTML part only", () => {
    const out = renderTemplate(template, "Hello", {
      lead: { firstName: '<script>alert("x")</script>', company: "Smith & Sons" },
      unsubscribe_url: "https://x.example/u?t=1&s=2",
    });
    expect(out.html).toContain("Hi &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; from Smith &amp; Sons");
    expect(out.html).not.toContain("<script>");
    expect(out.html).toContain('href="https://x.example/u?t=1&amp;s=2"');
    expect(out.text).toContain('Hi <script>alert("x")</script> from Smith & Sons');
    expect(out.text).toContain("Unsubscribe: https://x.example/u?t=1&s=2");
  });

  it("applies defaults when a merge field is missing or empty", () => {
    expect(renderTemplate(template, "x", { lead: {} }).text).toMatch(/^Hi there from \n/);
    expect(renderTemplate(template, "x", { lead: { firstName: "" } }).html).toContain("Hi there from");
  });

  it("strips CR and LF from the subject so a merge field cannot add a mail header", () => {
    const out = renderTemplate(template, "Hi {{ lead.firstName }}!", {
      lead: { firstName: "Ann\r\nBcc: victim@example.com" },
    });
    expect(out.subject).toBe("Hi Ann Bcc: victim@example.com!");
    expect(out.subject).not.toMatch(/[\r\n]/);
  });

  it("does not HTML-escape the subject", () => {
    expect(renderTemplate(template, "{{ lead.company }} & you", { lead: { company: "R&D <Labs>" } }).subject).toBe(
      "R&D <Labs> & you",
    );
  });

  it("rejects unknown filters instead of rendering them as nothing", () => {
    expect(() => renderTemplate({ ...template, text: "{{ lead.firstName | shout }}" }, "s", {})).toThrow(/shout/);
  });

  it("renders the same template repeatedly with different variables (parsed once, not state-sharing)", () => {
    const a = renderTemplate(template, "s", { lead: { firstName: "Ann" } });
    const b = renderTemplate(template, "s", { lead: { firstName: "Bob" } });
    expect(a.text).toContain("Hi Ann");
    expect(b.text).toContain("Hi Bob");
  });
});

describe("templateFields", () => {
  it("lists the lead fields used in output, tags and bracket access, once each", () => {
    const source = '{{ lead.firstName }} {% if lead.companySize > 10 %}{{ lead["title"] }}{% endif %} {{ lead.firstName }} {{ rep.name }} {{ unsubscribe_url }}';
    expect(templateFields(source)).toEqual(["companySize", "firstName", "title"]);
  });

  it("gives each use's line and column", () => {
    expect(templateFieldUses("line one\n  {{ lead.company }}")).toEqual([{ field: "company", line: 2, column: 6 }]);
  });

  it("throws on invalid Liquid", () => {
    expect(() => templateFields("{% if lead.x %}never closed")).toThrow();
  });
});

describe("escapeChatText", () => {
  it("escapes Slack's control characters and nothing else", () => {
    expect(escapeChatText("R&D <!channel> > *bold*")).toBe("R&amp;D &lt;!channel&gt; &gt; *bold*");
  });
});
