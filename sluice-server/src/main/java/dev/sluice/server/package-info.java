/**
 * The Sluice server: the program people run.
 *
 * <p>Starting points: {@link dev.sluice.server.cli.SluiceCommand} (the CLI: {@code run},
 * {@code validate}), {@link dev.sluice.server.config.ConfigLoader} (reading and validating
 * {@code sluice.yaml}).
 */
package dev.sluice.server;
