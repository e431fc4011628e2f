/** The generated validator module's text for a JSON Schema (see write-validator.mjs). */
export function validatorSource(schema: object): string;
