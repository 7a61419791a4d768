export * from "./ses-mailer";
export * from "./slack-notifier";
