/** The PNG encoder of `@lico/cam`, re-exported for `lico explain`'s input thumbnails and the report tests. */
export { encodePng } from '@lico/cam';
