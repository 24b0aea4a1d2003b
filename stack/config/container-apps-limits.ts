/**
 * Container Apps' limits the program must respect, and that Microsoft's OpenAPI does not enforce (they are
 * in descriptions and service rules only, so the ARM check cannot catch them):
 * - terminationGracePeriodSeconds at most 600 s (Azure App Service/Container Apps support, "Graceful
 *   termination on Container Apps", 2024);
 * - an HTTP request cut after 240 s (Learn, "Ingress in Azure Container Apps": "Request timeout is 240 seconds");
 * - a probe's failureThreshold 1 to 10 (ContainerApps CommonDefinitions.json, ContainerAppProbe).
 *
 * A module of its own, importing no provider: the config checks them without loading azure-native.
 */
export const CONTAINER_APPS_LIMITS = { terminationGracePeriodSeconds: 600, requestTimeoutMs: 240_000, probeFailureThreshold: 10 } as const;
