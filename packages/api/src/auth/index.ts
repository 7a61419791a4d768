export * from "./bearer";
export * from "./issue";
export * from "./middleware";
export * from "./www-authenticate";
export * from "./api-key";
