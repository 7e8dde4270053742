export const PACKAGE_NAME = '@lico/cli';
