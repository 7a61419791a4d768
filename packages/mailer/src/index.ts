export * from "./ses-mailer";
export * from "./slack-notifier";
export * from "./webhook-sender";
