/** The SES v2 mailer every function that sends email runs, through the stage's configuration set. */
import { createSesClient, SesMailer } from "@leadloop/mailer/ses-mailer";
import type { MailerFor } from "./runtime";

export const sesMailer: MailerFor = (env) => new SesMailer({ client: createSesClient(), configurationSet: env.SES_CONFIGURATION_SET });
