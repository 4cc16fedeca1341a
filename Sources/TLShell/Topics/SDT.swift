extension Topic {
    static let sdt = Topic(
        name: "sdt", title: "Simultaneous deep transfer (SDT): domain confusion and soft labels",
        text: """
          Tzeng et al. (2015) adapt with two objectives where DANN has one. A domain classifier
          learns to tell source features from target features; in turn the features learn to make
          its prediction uniform, ½ source ½ target (domain confusion: a cross-entropy against the
          uniform distribution, not a reversed gradient, so a perfect classifier is not rewarded
          for being fooled the other way). With a few labelled target samples, the soft-label loss
          transfers how the classes relate: each class's mean softmax over the source at
          temperature T (a 7 is "mostly 7, a bit 1") is what the network's prediction, at T, on a
          labelled target sample of that class must match. tl starts from the network as it is
          (train it on the source first, as the paper does) and refreshes the soft labels from it
          each epoch. The history shows the domain accuracy (0.5: fooled), the confusion loss
          (ln 2 ≈ 0.69 when the features give nothing away) and the soft-label loss.
          As attach()ed models do, an sdt() model keeps its weights averaged over about the
          last 20 steps (train's ema=0.95; ema=0 keeps the last step's). Measured (mnist →
          mnistm, 10 labelled target digits per class, from a CNN trained on the source, 2
          epochs with train's defaults, 3 seeds × 4 draws): SDT 0.820 ± 0.007 (0.793 ± 0.016
          with the last step's weights), the source and the same 100 labels without SDT's
          losses 0.798 ± 0.009, fine-tuning on the 100 labels alone 0.65 ± 0.07, source only
          0.58.
          """,
        formula: """
          L_D = CE(D(f(x)), domain)                       (the domain classifier only)
          L_conf = − mean_x Σ_d ½ log D(f(x))_d            (the features only)
          l^(k) = mean_{x_s of class k} softmax(net(x_s)/T)   (soft labels)
          L = CE(source) + CE(target labels) + λ L_conf + ν · − Σ_i l^(y)_i log softmax(net(x_t)/T)_i
          """,
        example: """
          seed(1)
          src = digits(600)
          few = take(digits(300, style="mnistm", seed=5), 3, per_class=true)
          tgt = unlabel(digits(600, style="mnistm", seed=6))
          net = mlp([2352, 64, 32, 10])
          train(net, src, epochs=2, quiet=true);
          s = sdt(net, mlp([32, 32, 2]), at=4)
          h = train(s, src, target=tgt, target_labels=few, epochs=2, quiet=true)
          h.names
          """)
}
