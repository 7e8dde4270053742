export const PACKAGE_NAME = '@lico/datasets';
