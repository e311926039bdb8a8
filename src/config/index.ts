// SPDX-License-Identifier: Apache-2.0
// Public face of the config module: load/parse/validate Tern's config file and diff two configs.
export { loadConfig, parseConfig } from './parse.ts';
export { loadConfigAsync } from './load-async.ts';
export { POLICY_KEYS, diffConfig, type ConfigDiff } from './diff.ts';
export { defaultPeerName } from './build.ts';
export { renderConfigDoc } from './doc.ts';
export {
  ConfigError,
  formatConfigError,
  type AddPathMode,
  type ConfigProblem,
  type LogLevel,
  type MaxPrefixes,
  type NextHopMode,
  type OriginateConfig,
  type PolicyRef,
  type PolicySpec,
  type PeerConfig,
  type TernConfig,
} from './types.ts';
