export * from "./ses-mailer";
