// The one grammar of each RAM name the provider accepts, from the config file and from
// ServiceAccount annotations alike: names 1-64 chars of [A-Za-z0-9.@_-], account uids digits.
export const RAM_ROLE_NAME = /^[A-Za-z0-9.@_-]{1,64}$/;
export const RAM_ROLE_ARN = /^acs:ram::(\d{1,32}):role\/[A-Za-z0-9.@_-]{1,64}$/;
export const OIDC_PROVIDER_ARN = /^acs:ram::(\d{1,32}):oidc-provider\/[A-Za-z0-9._-]{1,128}$/;
export const ACCOUNT_ID = /^\d{1,32}$/;
