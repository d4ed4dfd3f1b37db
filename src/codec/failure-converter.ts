/**
 * The failure converter used with encryption: failure messages and stack traces travel as an
 * encoded payload (so the codec encrypts them) instead of plain text. Loaded by path, both in the
 * workflow sandbox (bundled) and by the client and worker; it must import nothing but the SDK's common.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
