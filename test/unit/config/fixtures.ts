// One configuration with a value in each group of settings, for the schema and the loader tests.
export const FULL_CONFIG = {
  cacheDir: '/var/cache/acr',
  expiringThreshold: '10m',
  timeout: '20s',
  logLevel: 'debug',
  metadata: { endpoint: 'http://127.0.0.1:8080', roleName: 'node-role', disableIMDSv1: true },
  cr: { network: 'vpc', endpoint: { 'cn-hangzhou': 'http://127.0.0.1:9000' }, tokenExpiresInHours: 6 },
  registries: [{ domains: ['reg.example.com', 'reg.example.com:5000'], instanceId: 'cri-abc123', regionId: 'cn-shanghai-finance-1' }],
};

/** FULL_CONFIG as an operator writes it: YAML with comments, a flow list, a quoted port. */
export const FULL_CONFIG_YAML = `# provider config
cacheDir: /var/cache/acr
expiringThreshold: 10m
timeout: 20s
logLevel: debug
metadata:
  endpoint: http://127.0.0.1:8080
  roleName: node-role
  disableIMDSv1: true
cr:
  network: vpc
  endpoint:
    cn-hangzhou: http://127.0.0.1:9000
  tokenExpiresInHours: 6
registries:
  - domains: [reg.example.com, "reg.example.com:5000"]
    instanceId: cri-abc123
    regionId: cn-shanghai-finance-1
`;
