/**
 * The stage's shared resources: the table, the leadloop event bus, the SES configuration set whose
 * engagement events reach that bus, the secrets (leadloop's own, and one per Slack webhook the
 * teams name), the alarm topic, and the config snapshot every function ships. The other stacks
 * `use(Core)`.
 */
import { join } from "node:path";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as ses from "aws-cdk-lib/aws-ses";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Config, EventBus, type StackContext, Table } from "sst/constructs";
import { useProject } from "sst/project.js";
import type { LeadloopConfig } from "@leadloop/core/config/schema";
import { type SesEventName, sesEventsConsumed } from "@leadloop/core/engagement/ses-events";
import { SES_SOURCE } from "@leadloop/core/routing/routing-rules";
import { tableDefinition, TTL_ATTRIBUTE } from "@leadloop/store/table";
import { AUTH_SECRET_NAME, LEADLOOP_SECRET_NAMES, type LeadloopSecretName } from "../functions/lib/secret-names";
import { slackWebhookNames } from "../functions/lib/slack-webhooks";
import { webhookSecretNames } from "@leadloop/core/integrations/webhooks";
import { writeConfigSnapshot } from "./config-snapshot";
import { deadLetterAlarm } from "./leadloop-function";
import { acceptDeadLetterQueue } from "./nag";
import { isProductionStage, parseStageSettings } from "./stage-settings";
import { tableProps } from "./table";

/** SES's event types by the core's names (SES_EVENTS). */
const SES_EVENT_TYPE: Record<SesEventName, ses.EmailSendingEvent> = {
  send: ses.EmailSendingEvent.SEND,
  delivery: ses.EmailSendingEvent.DELIVERY,
  open: ses.EmailSendingEvent.OPEN,
  click: ses.EmailSendingEvent.CLICK,
  bounce: ses.EmailSendingEvent.BOUNCE,
  complaint: ses.EmailSendingEvent.COMPLAINT,
};

/**
 * What SES publishes to EventBridge for each message: only the events the config makes leadloop
 * read (sesEventsConsumed), as each one is billed as an event and a Lambda invocation per rule.
 */
export const sesEventTypes = (config: Pick<LeadloopConfig, "scoring">): ses.EmailSendingEvent[] => sesEventsConsumed(config).map((name) => SES_EVENT_TYPE[name]);

export function Core({ stack, app }: StackContext) {
  const settings = parseStageSettings(process.env);
  const production = isProductionStage(app.stage);
  const root = useProject().paths.root;
  const configSnapshot = writeConfigSnapshot({ root, outDir: join(".leadloop", "config-snapshot", app.stage) });

  const table = new Table(stack, "Table", {
    ...tableProps(tableDefinition("leadloop")),
    timeToLiveAttribute: TTL_ATTRIBUTE,
    cdk: {
      table: {
        pointInTimeRecovery: true,
        // A production table outlives `sst remove` and a mistaken stack deletion.
        deletionProtection: production,
        removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      },
    },
  });

  const bus = new EventBus(stack, "Bus");

  // TLS only. A topic policy replaces SNS's default one, so CloudWatch's alarms (this account's
  // only publisher) are allowed in it by name.
  const alarmTopic = new sns.Topic(stack, "Alarms", { displayName: `leadloop ${app.stage} alarms`, enforceSSL: true });
  alarmTopic.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
      actions: ["sns:Publish"],
      resources: [alarmTopic.topicArn],
      conditions: { StringEquals: { "aws:SourceAccount": stack.account } },
    }),
  );
  if (settings.LEADLOOP_ALARM_EMAIL) alarmTopic.addSubscription(new subscriptions.EmailSubscription(settings.LEADLOOP_ALARM_EMAIL));

  // SES can publish a configuration set's events only to the account's default bus (see
  // TOOLCHAIN.md); a rule there forwards this stage's events to the leadloop bus.
  const configurationSet = new ses.ConfigurationSet(stack, "EmailEvents", {
    reputationMetrics: true,
    suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
  });
  // The sending domain, verified with Easy DKIM (three CNAMEs) and a custom MAIL FROM (an MX and an
  // SPF TXT), sending through the configuration set by default. SES shows the records to publish;
  // the stack outputs the DKIM ones (infra/README.md, "Deliverability").
  const identity = new ses.EmailIdentity(stack, "SendingDomain", {
    identity: ses.Identity.domain(settings.sesIdentity),
    dkimIdentity: ses.DkimIdentity.easyDkim(ses.EasyDkimSigningKeyLength.RSA_2048_BIT),
    mailFromDomain: settings.mailFromDomain,
    // Bounces still reach SES's own MAIL FROM when the MX is missing, rather than failing sends.
    mailFromBehaviorOnMxFailure: ses.MailFromBehaviorOnMxFailure.USE_DEFAULT_VALUE,
    configurationSet,
  });
  const defaultBus = events.EventBus.fromEventBusName(stack, "DefaultBus", "default");
  configurationSet.addEventDestination("ToEventBridge", {
    destination: ses.EventDestination.eventBus(defaultBus),
    events: sesEventTypes(configSnapshot.config),
  });
  const sesDeadLetters = new sqs.Queue(stack, "SesForwardDeadLetters", { retentionPeriod: Duration.days(14), enforceSSL: true });
  acceptDeadLetterQueue(sesDeadLetters);
  new events.Rule(stack, "SesEventsToBus", {
    description: "SES engagement events of this stage's configuration set, forwarded to the leadloop bus",
    eventBus: defaultBus,
    eventPattern: {
      source: [SES_SOURCE],
      detail: { mail: { tags: { "ses:configuration-set": [configurationSet.configurationSetName] } } },
    },
    targets: [new targets.EventBus(bus.cdk.eventBus, { deadLetterQueue: sesDeadLetters })],
  });
  deadLetterAlarm(stack, "SesForward", sesDeadLetters, alarmTopic);

  // Values live in SSM Parameter Store (`npx sst secrets set`); the template only names them, and
  // each function that binds one may read that one parameter and no other.
  const secrets = {
    TOKEN_SIGNING_KEY: new Config.Secret(stack, "TOKEN_SIGNING_KEY"),
    // Lead ids are derived from emails with it. Set once per stage, never rotated: a new key
    // gives every known address a new id, so each person's next submission starts a second lead.
    LEAD_ID_KEY: new Config.Secret(stack, "LEAD_ID_KEY"),
    // The API's HS256 bearer-token secret; `none` on a stage that trusts only its OIDC issuer.
    AUTH_HS256_SECRET: new Config.Secret(stack, AUTH_SECRET_NAME),
    SENDER: new Config.Parameter(stack, "SENDER", { value: settings.LEADLOOP_SENDER }),
  } satisfies Record<LeadloopSecretName, Config.Secret | Config.Parameter>;

  // One secret per Slack webhook variable the teams name, bound only to the functions that
  // notify reps (see nurture-stack.ts).
  const slackSecrets = Object.fromEntries(
    slackWebhookNames(configSnapshot.config.teams.teams, LEADLOOP_SECRET_NAMES).map((name) => [name, new Config.Secret(stack, name)]),
  );

  // Each outgoing webhook endpoint's URL and signing key (config/webhooks.yaml names them), bound
  // only to the webhook functions; a name a team's Slack variable shares is the same secret.
  const webhookSecrets = Object.fromEntries(
    webhookSecretNames(configSnapshot.config.webhooks?.endpoints ?? []).map((name) => [name, slackSecrets[name] ?? new Config.Secret(stack, name)]),
  );

  // ses:SendEmail is authorised against the sending identity and the configuration set.
  const sendEmailResources = [
    stack.formatArn({ service: "ses", resource: "identity", resourceName: settings.sesIdentity }),
    stack.formatArn({ service: "ses", resource: "configuration-set", resourceName: configurationSet.configurationSetName }),
  ];

  stack.addOutputs({
    TableName: table.tableName,
    EventBusName: bus.eventBusName,
    ConfigurationSet: configurationSet.configurationSetName,
    SendingDomain: settings.sesIdentity,
    MailFromDomain: settings.mailFromDomain,
    ...Object.fromEntries(identity.dkimRecords.map((record, i) => [`DkimRecord${i + 1}`, `${record.name} CNAME ${record.value}`])),
  });

  return {
    settings,
    configSnapshot,
    table,
    bus: bus.cdk.eventBus,
    configurationSetName: configurationSet.configurationSetName,
    sendEmailResources,
    secrets,
    slackSecrets,
    webhookSecrets,
    alarmTopic,
    sesDeadLetters,
  };
}
