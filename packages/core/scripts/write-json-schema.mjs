// Generates schema/domain.schema.json (for editors) from the zod schema, the one source of truth.
import { mkdirSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { DomainConfigSchema } from '../dist/config/schema.js';

const schema = z.toJSONSchema(DomainConfigSchema, { io: 'input', unrepresentable: 'any' });
schema.$id = 'https://flotilla.dev/schema/domain.schema.json';
schema.title = 'Flotilla domain configuration (domain.json5)';
mkdirSync(new URL('../schema/', import.meta.url), { recursive: true });
writeFileSync(new URL('../schema/domain.schema.json', import.meta.url), `${JSON.stringify(schema, null, 2)}\n`);
