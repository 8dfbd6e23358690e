/** What a caller may do. Endpoints name the one they need with `@RequireCapability`. */
export const CAPABILITIES = ['read', 'send', 'manage', 'admin'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export function isCapability(value: string): value is Capability {
  return (CAPABILITIES as readonly string[]).includes(value);
}

/**
 * Parses "owner=*;admin=*;member=read,send;viewer=read". `*` grants every capability.
 * Throws on an unknown capability so a typo fails at boot instead of silently denying.
 */
export function parseRoleCapabilities(spec: string): ReadonlyMap<string, readonly Capability[]> {
  const roles = new Map<string, readonly Capability[]>();
  for (const entry of spec
    .split(';')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [role, list = ''] = entry.split('=').map((part) => part.trim());
    const names = list
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean);
    if (names.includes('*')) {
      roles.set(role, [...CAPABILITIES]);
      continue;
    }
    const unknown = names.filter((name) => !isCapability(name));
    if (unknown.length > 0) {
      throw new Error(`AUTH_ROLE_CAPABILITIES: unknown capability ${unknown.join(', ')} for role ${role} (known: ${CAPABILITIES.join(', ')}, *)`);
    }
    roles.set(role, names as Capability[]);
  }
  return roles;
}
