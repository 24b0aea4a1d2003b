/**
 * Target containerapps' Azure Resource Manager request bodies, as the program declares them under Pulumi's
 * mocks: for each documented containerapps configuration (configurations.ts), the inputs of every resource
 * Microsoft's OpenAPI copy in ../shared/azure-specs covers. check-arm-bodies.ts turns them into ARM bodies
 * and validates them with that folder's validate-arm.mjs (.ci/run); nothing here needs ../shared.
 */
import { containerAppsConfigurations } from "./configurations.js";
import { run } from "./harness.js";

/** The resources whose bodies are checked, and their definitions in Microsoft's OpenAPI (azure-specs/README.md). */
export const ARM_RESOURCES = [
  { type: "azure-native:app:ManagedEnvironment", spec: "ManagedEnvironments.json", definition: "ManagedEnvironment" },
  { type: "azure-native:app:ContainerApp", spec: "ContainerApps.json", definition: "ContainerApp" },
  { type: "azure-native:managedidentity:UserAssignedIdentity", spec: "ManagedIdentity.json", definition: "Identity" },
  { type: "azure-native:authorization:RoleAssignment", spec: "authorization-RoleAssignmentsCalls.json", definition: "RoleAssignmentCreateParameters" },
] as const;

export interface ArmInputs {
  /** The configuration's name (its golden file's). */
  configuration: string;
  resource: (typeof ARM_RESOURCES)[number];
  /** The Pulumi name of the resource. */
  name: string;
  /** Its inputs as the engine receives them, secrets unwrapped. */
  inputs: Record<string, unknown>;
}

/**
 * The inputs of every checked resource of every containerapps configuration, from a deployment's run (not a
 * preview: a preview's unknown values are not what Resource Manager receives).
 */
export async function containerAppsArmInputs(): Promise<ArmInputs[]> {
  const found: ArmInputs[] = [];
  for (const { name: configuration, values, secrets } of containerAppsConfigurations()) {
    const r = await run(values, secrets);
    for (const resource of ARM_RESOURCES) {
      for (const registration of r.ofType(resource.type)) found.push({ configuration, resource, name: registration.name, inputs: registration.inputs });
    }
  }
  return found;
}
