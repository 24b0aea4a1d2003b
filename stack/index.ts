import * as pulumi from "@pulumi/pulumi";

import { azureRestFor } from "./azure-rest.js";
import { loadConfig } from "./config/index.js";
import { runStack } from "./program.js";

// Wiring only: read the config once, run the program, export its outputs.
const azureRest = azureRestFor(new pulumi.Config("azure-native").get("environment") ?? process.env["ARM_ENVIRONMENT"]);
const outputs = runStack(loadConfig(new pulumi.Config()), { azureRest });

export const imageRef = outputs.imageRef;
export const namespace = outputs.namespace;
export const serviceName = outputs.serviceName;
export const endpoint = outputs.endpoint;
export const webhookUrl = outputs.webhookUrl;
export const portForwardCommand = outputs.portForwardCommand;
export const clusterName = outputs.clusterName;
export const registryName = outputs.registryName;
export const registryServer = outputs.registryServer;
export const kubeconfig = outputs.kubeconfig;
export const resourceGroupName = outputs.resourceGroupName;
export const dataFactoryName = outputs.dataFactoryName;
export const dataFactoryPipelineName = outputs.dataFactoryPipelineName;
export const containerAppName = outputs.containerAppName;
export const containerAppsEnvironmentName = outputs.containerAppsEnvironmentName;
