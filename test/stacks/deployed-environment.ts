/**
 * A synthesised function's environment as its container will see it, worked out offline: the
 * CloudFormation values (Ref, GetAtt, Join, cross-stack ImportValue) replaced by stand-ins of the
 * right shape, and SST's binding variables (`SST_Secret_value_X: "__FETCH_FROM_SSM__"`,
 * `SST_Parameter_value_X: <value>`) turned into the lookup SST Config answers at cold start. So
 * the runtime's own parsing can run on it, and a variable a function lacks fails here, not in AWS.
 */

type Template = { Resources?: Record<string, { Type: string }>; Outputs?: Record<string, { Value: unknown; Export?: { Name?: unknown } }> };

export class UnresolvableValueError extends Error {
  override readonly name = "UnresolvableValueError";
}

/** What a deployed attribute looks like, where its shape matters to the runtime's schema. */
const ATTRIBUTE_STAND_INS: Record<string, (id: string) => string> = {
  "AWS::ApiGatewayV2::Api.ApiEndpoint": (id) => `https://${id.toLowerCase()}.execute-api.us-east-1.amazonaws.com`,
};

const PSEUDO_PARAMETERS: Record<string, string> = {
  "AWS::Partition": "aws",
  "AWS::Region": "us-east-1",
  "AWS::AccountId": "123456789012",
  "AWS::URLSuffix": "amazonaws.com",
};

/** A stand-in for what CloudFormation will put in this value; throws on anything it cannot read. */
export function resolveValue(value: unknown, template: Template, all: readonly Template[]): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const [[fn, arg] = []] = Object.entries(value);
    if (fn === "Ref" && typeof arg === "string") return PSEUDO_PARAMETERS[arg] ?? arg;
    if (fn === "Fn::GetAtt" && Array.isArray(arg)) {
      const [id, attribute] = arg as [string, string];
      const type = template.Resources?.[id]?.Type;
      if (!type) throw new UnresolvableValueError(`GetAtt of ${id}, which is not in the template`);
      return ATTRIBUTE_STAND_INS[`${type}.${attribute}`]?.(id) ?? `${id}.${attribute}`;
    }
    if (fn === "Fn::Join" && Array.isArray(arg)) {
      const [separator, parts] = arg as [string, unknown[]];
      return parts.map((part) => resolveValue(part, template, all)).join(separator);
    }
    if (fn === "Fn::ImportValue") {
      const name = resolveValue(arg, template, all);
      for (const exporter of all) {
        const output = Object.values(exporter.Outputs ?? {}).find((o) => o.Export && resolveValue(o.Export.Name, exporter, all) === name);
        if (output) return resolveValue(output.Value, exporter, all);
      }
      throw new UnresolvableValueError(`no stack exports ${name}`);
    }
  }
  throw new UnresolvableValueError(`cannot read the CloudFormation value ${JSON.stringify(value)}`);
}

export interface DeployedEnvironment {
  /** The plain variables, resolved. */
  variables: Record<string, string>;
  /** The secrets and parameters bound through SST, by name. */
  bound: string[];
  /** What SST Config answers in the container: a parameter's value, a stand-in for a secret. */
  lookup: (name: string) => string | undefined;
}

/**
 * Stands in for a secret's value from SSM. Long enough for every key's minimum and an https URL,
 * so a secret that is bound parses; one that is not bound has no value at all.
 */
export function secretStandIn(name: string): string {
  return `https://ssm.example.invalid/sst/${name}/a-value-set-with-sst-secrets-set`;
}

export function deployedEnvironment(variables: Record<string, unknown>, template: Template, all: readonly Template[]): DeployedEnvironment {
  const plain: Record<string, string> = {};
  const config = new Map<string, string>();
  for (const [name, raw] of Object.entries(variables)) {
    const value = resolveValue(raw, template, all);
    const binding = /^SST_(Secret|Parameter)_value_(.+)$/.exec(name);
    if (!binding) plain[name] = value;
    else if (binding[1] === "Secret") {
      if (value !== "__FETCH_FROM_SSM__") throw new UnresolvableValueError(`${name} holds a value in the template instead of fetching it from SSM`);
      config.set(binding[2] as string, secretStandIn(binding[2] as string));
    } else config.set(binding[2] as string, value);
  }
  return { variables: plain, bound: [...config.keys()].sort(), lookup: (name) => config.get(name) };
}
