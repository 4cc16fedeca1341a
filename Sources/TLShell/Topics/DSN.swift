extension Topic {
    static let dsn = Topic(
        name: "dsn", title: "Domain Separation Networks: shared and private codes",
        text: """
          Bousmalis et al. (2016) give each image two codes. A shared encoder, the same for both
          domains, gives the code the label classifier reads; a private encoder per domain gives a
          code for what belongs to that domain alone (mnistm's textures and colours). A shared
          decoder must rebuild the image from the sum of the two, so together they describe it; the
          difference loss makes them orthogonal, so the domain's particulars cannot hide in the
          shared code; the similarity loss — DANN's domain classifier behind a gradient reversal —
          makes the shared codes of the two domains alike. reconstruct(d, x, code="shared") and
          code="private" show what each code kept, as the paper's figure does. Reconstruction uses
          the scale-invariant MSE, blind to a shift of the whole image's brightness. Weights: α =
          0.3, β = 0.075, γ = 0.25 (β and γ as published for MNIST → MNIST-M; their α, scaled to
          tl's [0, 1] images, 0.04, trains the decoder too slowly for a few epochs); λ: train's
          lambda= and lambda_max=, as for an attach()ed model. dsn() starts the decoder's last
          layer at zero, so reconstructions start flat, not as noise. As attach()ed models do, a
          dsn() model keeps its weights averaged over about the last 20 steps (train's ema=0.95;
          ema=0 keeps the last step's). Measured (mnist → mnistm, 3 000 + 3 000, 3 epochs, the same
          encoders everywhere, 3 seeds): with train's defaults DSN 0.740 ± 0.027 (0.667 ± 0.023
          with the last step's weights), DANN 0.502 ± 0.348 (one run diverged), source only 0.589 ±
          0.098; with Adam lr 0.001 DANN 0.245 (its features invert the domain classifier) and DSN
          0.554, near source only's 0.509: use SGD. After 3 epochs the shared code's
          reconstructions show the digit in grey; the private code's show no digit.
          """,
        formula: """
          L = L_task(G(E_c(x_s))) + α L_recon + β L_difference + γ L_similarity
          L_recon = Σ_domains simse(x, D(E_c(x) + E_p(x))),  simse = (1/k)‖x − x̂‖² − (1/k²)((x − x̂)·1)²
          L_difference = ‖H_cᵀ H_p‖² (source and target; rows of H at unit length, mean of squares)
          L_similarity = CE(domain classifier(GRL_λ(E_c(x))), domain)
          """,
        example: """
          seed(1)
          src = digits(300)
          tgt = unlabel(digits(300, style="mnistm", seed=2))
          d = dsn(mlp([2352, 32]), mlp([2352, 32]), mlp([32, 2352]), mlp([32, 10]), mlp([32, 16, 2]))
          h = train(d, src, target=tgt, epochs=2, quiet=true)
          h.names
          reconstruct(d, take(src, 4), code="shared").shape
          """)
}
