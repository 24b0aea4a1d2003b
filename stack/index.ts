import * as pulumi from "@pulumi/pulumi";

import { azureRestFor } from "./azure-rest.js";
import { loadConfig } from "./config/index.js";
import { definedOutputs, runStack } from "./program.js";

// Wiring only: read the config once, run the program, export its outputs (StackOutputs in program.ts
// names them all). Only those this configuration has: see definedOutputs.
const azureRest = azureRestFor(new pulumi.Config("azure-native").get("environment") ?? process.env["ARM_ENVIRONMENT"]);
export default definedOutputs(runStack(loadConfig(new pulumi.Config()), { azureRest }));
