/**
 * {@code sluice.yaml}: the configuration model ({@link dev.sluice.server.config.SluiceConfig},
 * {@link dev.sluice.server.config.RevisionConfig}) and its loader, which refuses a bad file with
 * the file, the field and the reason ({@link dev.sluice.server.config.ConfigException}).
 */
package dev.sluice.server.config;
