import type { PipeTransform, Type } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { AppError } from '../errors/app-error';
import { firstConstraintMessage } from './first-constraint';
import { firstUnstorableString } from './unstorable-strings';

/**
 * Turns a JSON request body into an instance of `type`, validated by its class-validator
 * decorators: unknown properties are rejected, and the first problem becomes a 400
 * `invalid_argument` naming the parameter (`details.parameter`, dotted for nested ones). A string
 * holding NUL or half a surrogate pair, anywhere in the body, is refused first (PostgreSQL could
 * not store it).
 */
export class ValidatedBodyPipe<T extends object> implements PipeTransform<unknown, T> {
  constructor(private readonly type: Type<T>) {}

  transform(raw: unknown): T {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw AppError.invalidArgument('request body must be a JSON object', { parameter: 'body' });
    }
    const unstorable = firstUnstorableString(raw);
    if (unstorable !== undefined) {
      throw AppError.invalidArgument(`${unstorable} must not contain NUL characters or unpaired surrogates`, { parameter: unstorable });
    }
    const instance = plainToInstance(this.type, raw);
    const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
    if (errors.length > 0) {
      const { path, message } = firstProblem(errors[0]);
      throw AppError.invalidArgument(message, { parameter: path });
    }
    return instance;
  }
}

function firstProblem(error: ValidationError, prefix = ''): { path: string; message: string } {
  const path = prefix ? `${prefix}.${error.property}` : error.property;
  const message = firstConstraintMessage(error.constraints ?? {});
  if (message !== undefined) {
    // class-validator words a whitelist violation as "property x should not exist".
    return { path, message };
  }
  if (error.children && error.children.length > 0) return firstProblem(error.children[0], path);
  return { path, message: `${path} is invalid` };
}
