export { EngineStartError } from "./engine-process";
export { type DynamoDbLocalOptions, JAVA_REQUIRED, type LocalEngine, startDynamoDbLocal } from "./dynamodb-local";
export { type SesLocalOptions, startSesLocal } from "./ses-local";
