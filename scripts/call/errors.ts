import { status as Code, type ServiceError } from '@grpc/grpc-js';
import { BadRequest, ErrorInfo } from '#libs/contracts/google/rpc/error_details.js';
import { Status } from '#libs/contracts/google/rpc/status.js';

/** The name of a gRPC status code, e.g. 3 → INVALID_ARGUMENT. */
export const codeName = (code: number): string => Code[code] ?? `code ${code}`;

/**
 * A failed call as lines for stderr: `CODE: message`, then the google.rpc.Status
 * details of `grpc-status-details-bin` (libs/grpc/status.ts attaches an ErrorInfo;
 * BadRequest is decoded too, anything else named by its type).
 */
export function describeError(error: ServiceError): string[] {
  const lines = [`${codeName(error.code)}: ${error.details}`];
  const raw = error.metadata?.get('grpc-status-details-bin')[0];
  if (!raw || typeof raw === 'string') return lines;
  for (const detail of Status.decode(raw).details) {
    const type = detail.typeUrl.slice(detail.typeUrl.lastIndexOf('/') + 1);
    if (type === 'google.rpc.ErrorInfo') {
      const info = ErrorInfo.decode(detail.value);
      lines.push(`  ErrorInfo: reason ${info.reason}, domain ${info.domain}`);
      for (const [key, value] of Object.entries(info.metadata)) lines.push(`    ${key}: ${value}`);
    } else if (type === 'google.rpc.BadRequest') {
      lines.push('  BadRequest:');
      for (const violation of BadRequest.decode(detail.value).fieldViolations) {
        lines.push(`    ${violation.field}: ${violation.description}${violation.reason ? ` (${violation.reason})` : ''}`);
      }
    } else {
      lines.push(`  ${type} (${detail.value.length} bytes, not decoded)`);
    }
  }
  return lines;
}
