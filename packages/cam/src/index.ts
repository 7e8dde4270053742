export const PACKAGE_NAME = '@lico/cam';
