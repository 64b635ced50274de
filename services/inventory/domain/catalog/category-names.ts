import { alreadyExists } from '#libs/errors/app-error.js';
import { isUniqueViolation } from '../../data/rows.js';

/** A category's name is unique: CreateCategory and UpdateCategory turn the index's violation into ALREADY_EXISTS. */

const nameTaken = (name: string) =>
  alreadyExists(`a category named "${name}" already exists`, { reason: 'CATEGORY_NAME_TAKEN', field: 'category.name', metadata: { name } });

/** Turns the unique-name violation into ALREADY_EXISTS. */
export async function guardName<T>(name: string | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (name !== undefined && isUniqueViolation(error)) throw nameTaken(name);
    throw error;
  }
}
