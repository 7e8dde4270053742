export const PACKAGE_NAME = '@lico/backbones';
