export const PACKAGE_NAME = '@lico/text';
