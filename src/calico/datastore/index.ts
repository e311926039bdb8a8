// SPDX-License-Identifier: Apache-2.0
// Public face of the Calico Kubernetes datastore: reading BGP resources from the API server.
export { CalicoDatastore, type DatastoreOptions, type DatastoreStatus } from './datastore.ts';
export { detectCalicoApiGroup, apiGroupFromEnv, CALICO_V1, CALICO_V3, type CalicoApiGroup } from './api-group.ts';
export { Reflector, type ReflectorOptions, type ReflectorStatus, type BackoffOptions } from './reflector.ts';
export { clientNodeTransport, insecureKubeConfig, loadKubeConfig, KubeApiError, type KubeTransport, type WatchEvent } from './transport.ts';
export { referencedSecrets, serviceAdvertisementConfigured } from './sources.ts';
