extension Topic {
    static let mmd = Topic(
        name: "mmd", title: "Discrepancy-based adaptation: MMD, multi-kernel MMD, CMD",
        text: """
          Instead of a discriminator, add to the source loss a measure of how far apart the source
          and target features of net[0:at] are. DDC uses the linear maximum mean discrepancy
          (the distance between the feature means); DAN a multi-kernel MMD whose Gaussian
          bandwidths surround the median pairwise distance; CMD compares the means and the
          central moments up to order 5. train(net, src, target=tgt, align="mmd" | "mkmmd" | "cmd",
          at=k, align_weight=w); the weight ramps up from 0 during training. Starting from a
          network trained on the source avoids the trivial solution of collapsing all features.
          """,
        formula: """
          linear MMD:  ‖ mean f(x_s) − mean f(x_t) ‖²
          MK-MMD²:     E k(s,s′) + E k(t,t′) − 2 E k(s,t),   k = Σ_i exp(−‖a−b‖² / σ_i²)
          CMD:         ‖E s − E t‖/(b−a) + Σ_{k=2..5} ‖c_k(s) − c_k(t)‖/(b−a)^k
          """,
        example: """
          seed(1)
          src = digits(400)
          tgt = unlabel(digits(400, style="mnistm", seed=2))
          net = cnn()
          train(net, src, epochs=1, optimizer="adam", lr=0.001, quiet=true);
          train(net, src, target=tgt, align="mkmmd", at=7, epochs=1, optimizer="adam", lr=0.001, quiet=true)
          round(evaluate(net, digits(200, style="mnistm", seed=3)).accuracy, 2)
          """)
}
