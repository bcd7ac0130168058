// Replaced at bundle time with package.json's version; "0.0.0-dev" when run from source.
declare const __PROVIDER_VERSION__: string | undefined;

export const VERSION: string = typeof __PROVIDER_VERSION__ === 'string' ? __PROVIDER_VERSION__ : '0.0.0-dev';
export const PROGRAM_NAME = 'aliyun-acr-credential-provider';
export const USER_AGENT = `${PROGRAM_NAME}/${VERSION}`;
