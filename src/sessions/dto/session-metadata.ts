import { registerDecorator, ValidationOptions } from 'class-validator';

export const MAX_METADATA_BYTES = 16 * 1024;

/** A JSON object (not an array, not null) whose serialized form is at most MAX_METADATA_BYTES. */
export function IsSessionMetadata(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isSessionMetadata',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' && value !== null && !Array.isArray(value) && Buffer.byteLength(JSON.stringify(value), 'utf8') <= MAX_METADATA_BYTES,
        defaultMessage: () => `metadata must be a JSON object of at most ${MAX_METADATA_BYTES} bytes`,
      },
    });
}

export const METADATA_EXAMPLE = { crmAccountId: 'acc_4711', team: 'support' };
