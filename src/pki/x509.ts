/**
 * @peculiar/x509, loaded once. It resolves its algorithm classes through tsyringe, which needs
 * the Reflect metadata polyfill in place before @peculiar/x509 is evaluated.
 */
import "reflect-metadata";

export * from "@peculiar/x509";
