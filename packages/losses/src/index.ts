export const PACKAGE_NAME = '@lico/losses';
