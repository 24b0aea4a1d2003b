import * as datafactory from "@pulumi/azure-native/datafactory/index.js";
import type * as types from "@pulumi/azure-native/types/index.js";
import * as pulumi from "@pulumi/pulumi";

// The API's own retry policy: the activities wait as long as the API may take to call back.
import * as callbackPolicy from "../api/src/callbacks/policy.js";
import type { ApiSettings } from "./config/api-settings.js";
import type { DataFactoryConfig } from "./config/data-factory.js";

export const SAMPLE_PIPELINE_NAME = "adf-webhook-sample";

/** An Azure Data Factory with a system-assigned identity (the allowed caller when AUTH_MODE is entra). */
export function createFactory(config: DataFactoryConfig, resourceGroupName: pulumi.Input<string>): datafactory.Factory {
  return new datafactory.Factory("adf", {
    resourceGroupName,
    location: config.location,
    factoryName: config.name,
    identity: { type: datafactory.FactoryIdentityType.SystemAssigned },
  });
}

/** The factory's managed identity (its service principal's object id). */
export function factoryPrincipalId(factory: datafactory.Factory): pulumi.Output<string> {
  return factory.identity.apply((identity) => {
    if (!identity?.principalId) throw new Error("the Data Factory has no system-assigned identity");
    return identity.principalId;
  });
}

/** ADF's timespan format, `[d.]hh:mm:ss`. */
export function adfTimeout(milliseconds: number): string {
  const total = Math.ceil(milliseconds / 1000);
  const days = Math.floor(total / 86_400);
  const pad = (n: number) => String(n).padStart(2, "0");
  const clock = `${pad(Math.floor((total % 86_400) / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
  return days > 0 ? `${days}.${clock}` : clock;
}

/** How the Webhook activities authenticate, matching the API's AUTH_MODE. */
export function webhookAuthentication({ settings, secrets }: ApiSettings): types.input.datafactory.WebActivityAuthenticationArgs | undefined {
  switch (settings.AUTH_MODE) {
    case "none":
      return undefined;
    case "basic":
      if (!settings.BASIC_AUTH_USERNAME || !secrets.BASIC_AUTH_PASSWORD) throw new Error("basic authentication needs basicAuthUsername and basicAuthPassword");
      return {
        type: "Basic",
        username: settings.BASIC_AUTH_USERNAME,
        password: { type: "SecureString", value: pulumi.secret(secrets.BASIC_AUTH_PASSWORD) },
      };
    case "entra":
      // The factory's managed identity asks Entra for a token whose audience the API accepts.
      if (!settings.ENTRA_AUDIENCE?.[0]) throw new Error("entra authentication needs entraAudience");
      return { type: "MSI", resource: settings.ENTRA_AUDIENCE[0] };
  }
}

/**
 * A sample pipeline: a Webhook activity on /helloworld, then one on /simulate. Data Factory adds
 * `callBackUri` to each body and waits for the API's callback (or the activity's timeout).
 */
export function createSamplePipeline(
  factory: datafactory.Factory,
  resourceGroupName: pulumi.Input<string>,
  baseUrl: pulumi.Input<string>,
  api: ApiSettings,
): datafactory.Pipeline {
  const authentication = webhookAuthentication(api);
  // The API gives up on a job at JOB_TIMEOUT_MS and then retries its callback for a while: the activity
  // waits for all of that (as the API's own code computes it), so a late callback still reaches it.
  const timeout = adfTimeout(api.settings.JOB_TIMEOUT_MS + callbackPolicy.callbackRetryWindowMs(api.settings));
  const webhook = (name: string, path: string, body: object, dependsOn?: string): types.input.datafactory.WebHookActivityArgs => ({
    name,
    type: "WebHook",
    method: datafactory.WebHookActivityMethod.POST,
    url: pulumi.interpolate`${baseUrl}${path}`,
    headers: { "Content-Type": "application/json" },
    body,
    timeout,
    authentication,
    // The API's callback carries StatusCode/Error on failure: let it fail the activity.
    reportStatusOnCallBack: true,
    dependsOn: dependsOn ? [{ activity: dependsOn, dependencyConditions: ["Succeeded"] }] : undefined,
  });

  return new datafactory.Pipeline("adf-sample-pipeline", {
    resourceGroupName,
    factoryName: factory.name,
    pipelineName: SAMPLE_PIPELINE_NAME,
    description: "Calls the adf-webhook API deployed by this stack: /helloworld, then /simulate.",
    activities: [
      webhook("HelloWorld", "/helloworld", {}),
      webhook("Simulate", "/simulate", { durationMs: 5000 }, "HelloWorld"),
    ],
  });
}
