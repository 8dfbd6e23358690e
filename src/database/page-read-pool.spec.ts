import { GENERIC_PLANS, pageReadPoolConfig } from './page-read-pool';

describe('pageReadPoolConfig', () => {
  const settings = {
    url: 'postgres://gateway:secret@db.internal:5432/gateway',
    poolMax: 7,
    statementTimeoutMs: 9000,
    applicationName: 'whatsapp-gateway/replica-1',
  };

  it('keeps the DataSource pool settings, with its own size, name and generic plans', () => {
    const config = pageReadPoolConfig(settings, 4);
    expect(config).toMatchObject({
      connectionString: settings.url,
      max: 4,
      statement_timeout: 9000,
      keepAlive: true,
      application_name: 'whatsapp-gateway/replica-1/pages',
      options: GENERIC_PLANS,
    });
    expect(config.Client).toBeDefined();
  });

  it('adds generic plans to options given in DATABASE_URL, and reads URLs the way pg does', () => {
    expect(pageReadPoolConfig({ ...settings, url: `${settings.url}?options=-c%20search_path%3Dtenant` }, 4).options).toBe(
      `-c search_path=tenant ${GENERIC_PLANS}`,
    );
    expect(pageReadPoolConfig({ ...settings, url: 'postgres://gateway:secret@/gateway?host=/var/run/postgresql' }, 4).options).toBe(GENERIC_PLANS);
  });

  it("keeps the application name within PostgreSQL's 63 characters, its /pages suffix included", () => {
    const name = pageReadPoolConfig({ ...settings, applicationName: 'x'.repeat(80) }, 4).application_name;
    expect(name).toHaveLength(63);
    expect(name).toMatch(/^x+\/pages$/);
  });
});
