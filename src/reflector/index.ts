// SPDX-License-Identifier: Apache-2.0
// Route reflection and the iBGP/eBGP export rules (RFC 4456, RFC 4271 §5.1 and §9), as pure
// functions the RIB calls per path and peer. Import: importRejectReason (ORIGINATOR_ID /
// CLUSTER_LIST / AS loops). Export: mayExport (who may receive what), then rewriteForExport
// (the attributes to send). No state, no I/O.
//
//   learned from ↓ / sent to →     | eBGP peer | iBGP client | iBGP non-client
//   -------------------------------+-----------+-------------+----------------
//   eBGP peer                      |    yes    |     yes     |      yes
//   originated / kernel / connected|    yes    |     yes     |      yes
//   iBGP client (we reflect)       |    yes    |     yes     |      yes
//   iBGP non-client                |    yes    |     yes     |       —
//
//   never back to the peer it came from; no clients configured = plain iBGP full mesh.
export { importRejectReason, mayExport } from './rules.ts';
export type { ReflectorConfig } from './rules.ts';
export { DEFAULT_LOCAL_PREF, prependOwnAs, rewriteForExport } from './rewrite.ts';
export type { ExportRewriteOptions } from './rewrite.ts';
